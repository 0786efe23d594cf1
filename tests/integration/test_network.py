"""The help network: ties inside the neighbourhood, new ties, a deterministic layout, audit."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from mutualaid.errors import NotAllowed
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, TrustTie
from mutualaid.models.base import utcnow
from mutualaid.services.network import help_network, layout
from tests.dashboard_builders import MINE, OTHER, helped, person, staff


@pytest.fixture
def ties(hengelo):
    worker = staff("coach@example.org")
    anna, piet, kees = (person(first_name=n) for n in ("Anna", "Piet", "Kees"))
    outside = person(OTHER, first_name="Buiten")
    helped(anna, piet, days_ago=100)
    helped(anna, piet, days_ago=90)
    helped(kees, anna, days_ago=3)  # new this month
    helped(outside, piet, days_ago=3)  # leaves the neighbourhood: counted, not named
    a, b = sorted((piet.id, kees.id))
    db.session.add(
        TrustTie(resident_a_id=a, resident_b_id=b, kind="knows", weight=0.5, confirmed_at=utcnow())
    )
    db.session.commit()
    return {"worker": worker, "anna": anna, "piet": piet, "kees": kees, "outside": outside}


def test_network_has_helped_and_knows_ties_inside_the_neighbourhood(ties):
    net = help_network(ties["worker"].id, MINE)
    assert {n.first_name for n in net.nodes} == {"Anna", "Piet", "Kees"}
    edges = {(e.kind, e.source_name, e.target_name): e for e in net.edges}
    assert set(edges) == {
        ("helped", "Anna", "Piet"),
        ("helped", "Kees", "Anna"),
        ("knows", *sorted(["Piet", "Kees"], key=lambda n: ties[n.lower()].id)),
    }
    assert edges[("helped", "Anna", "Piet")].times == 2
    assert not edges[("helped", "Anna", "Piet")].is_new
    assert edges[("helped", "Kees", "Anna")].is_new
    assert net.outside_ties == 1
    assert "Buiten" not in {n.first_name for n in net.nodes}


def test_layout_is_deterministic_and_inside_the_canvas(ties):
    first = help_network(ties["worker"].id, MINE)
    second = help_network(ties["worker"].id, MINE)
    assert [(n.x, n.y) for n in first.nodes] == [(n.x, n.y) for n in second.nodes]
    assert all(0 <= n.x <= first.width and 0 <= n.y <= first.height for n in first.nodes)
    pos = layout(5, [(0, 1), (1, 2), (3, 4)])
    assert np.array_equal(pos, layout(5, [(0, 1), (1, 2), (3, 4)]))
    assert pos.min() >= 0 and pos.max() <= 1


def test_network_view_is_audited_per_person_and_scoped(ties):
    help_network(ties["worker"].id, MINE)
    subjects = set(
        db.session.scalars(
            select(AuditEvent.subject_resident_id).where(AuditEvent.action == "view:network")
        )
    )
    assert subjects == {ties["anna"].id, ties["piet"].id, ties["kees"].id}
    with pytest.raises(NotAllowed):
        help_network(ties["worker"].id, OTHER)
