"""Names for the demo: a mix that looks like a Twente town today."""

FIRST_NAMES = (
    "Anna", "Jan", "Gerrit", "Hennie", "Truus", "Kees", "Ans", "Piet", "Riet", "Bennie",
    "Marieke", "Sander", "Femke", "Bart", "Lotte", "Joost", "Ilse", "Wouter", "Sanne", "Thijs",
    "Fatma", "Mehmet", "Ayşe", "Yusuf", "Emre", "Zeynep", "Ahmed", "Fatima", "Mohamed", "Samira",
    "Olena", "Oksana", "Dmytro", "Agnieszka", "Piotr", "Tesfay", "Senait", "Hanna", "Daan", "Sem",
    "Noah", "Julia", "Emma", "Tess", "Lieke", "Henk", "Gerda", "Willy", "Dinie", "Herman",
    "Annie", "Bertus", "Mientje", "Johan", "Greet", "Rik", "Esther", "Karin", "Ronald", "Monique",
)
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
    "Hendriks", "ter Horst", "Nijhuis", "Oude Egberink", "Kamphuis", "Huisman", "Schuurman",
    "Kuipers", "Lammerink", "Pierik", "Wolters", "Bruggink", "Haverkamp", "Kleinsman",
    "Yilmaz", "Kaya", "Demir", "Şahin", "El Amrani", "Bouzid", "Kovalenko", "Shevchenko",
    "Kowalski", "Nowak", "Gebremedhin", "Tesfamariam", "van der Meer", "Scholten", "Oosterik",
)
# Languages spoken besides Dutch, with how likely a demo resident speaks them.
EXTRA_LANGUAGES = (("en", 0.30), ("de", 0.15), ("tr", 0.06), ("ar", 0.05), ("pl", 0.03),
                   ("uk", 0.03), ("ti", 0.02))
REQUEST_TEXTS = {
    "boodschappen": ("Wie kan één keer per week boodschappen voor mij doen bij de Jumbo?",
                     "Ik ben net geopereerd en kan even niet naar de winkel."),
    "vervoer": ("Ik moet donderdag naar het ziekenhuis (ZGT). Wie kan mij brengen?",
                "Graag een lift naar de huisarts op dinsdagochtend."),
    "gezelschap": ("Ik woon alleen en zou het fijn vinden als iemand een kopje koffie komt drinken.",
                   "Wie wil af en toe met mij wandelen in het park?"),
    "klusjes": ("Er moet een lamp opgehangen worden in de gang.",
                "Mijn kraan lekt. Kan iemand even kijken?"),
    "formulieren": ("Ik snap de brief van de Belastingdienst niet. Wie helpt mij?",
                    "Hulp gevraagd bij het aanvragen van huurtoeslag."),
    "digitale_hulp": ("Hoe werkt beeldbellen op mijn tablet? Ik wil mijn kleinkinderen zien.",
                      "Wie helpt mij met DigiD op mijn telefoon?"),
    "huisdieren": ("Wie kan mijn hond uitlaten als ik naar het ziekenhuis moet?",
                   "Mijn kat heeft eten nodig als ik een week weg ben."),
    "tuin": ("Mijn heg moet gesnoeid worden, ik kan dat zelf niet meer.",
             "Wie helpt met onkruid wieden in de voortuin?"),
    "maaltijd": ("Wie kookt er af en toe een extra portie voor mij?",
                 "Ik zou graag één keer per week samen eten."),
    "kinderoppas": ("Wie kan op woensdagmiddag op mijn zoon (7) passen?",
                    "Oppas gezocht voor twee avonden per maand."),
}
OFFER_TEXTS = (
    "Ik ben gepensioneerd en heb tijd over. Bel gerust.",
    "Ik heb een auto en help graag met vervoer.",
    "Handig met gereedschap, klusjes in en om het huis.",
    "Student, kan goed met computers en telefoons.",
    "Ik kook graag en maak makkelijk een portie extra.",
    "Wandel graag, ook met uw hond.",
    "Ik help graag met papierwerk en formulieren.",
)
