/* Progressive enhancement for "ask for help": the other-address fields show only when "at
   another address" is chosen, and a category that always needs a VOG ticks that box. Without
   JavaScript the whole form shows and the server applies the same rules. */
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form) { return; }
  var panel = document.getElementById("other-address");
  var vogBox = document.getElementById("needs_vog");
  var vogCategories = (form.getAttribute("data-vog-categories") || "").split(" ");

  function checkedValue(name) {
    var chosen = form.querySelector("input[name='" + name + "']:checked");
    return chosen ? chosen.value : "";
  }

  function update() {
    if (panel) { panel.hidden = checkedValue("where") !== "other"; }
    if (vogBox && vogCategories.indexOf(checkedValue("category")) !== -1) {
      vogBox.checked = true;
    }
  }

  form.addEventListener("change", update);
  update();
}());
