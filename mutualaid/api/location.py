"""/api/v1/me/location: where I live. Give postcode + house number (looked up at once when the
geocoder answers quickly, else in the background), a point (lat + lon) or a neighbourhood."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..errors import Invalid
from ..services.geocoding import (
    API_LOOKUP_SECONDS,
    home_location,
    set_home_address,
    set_home_neighbourhood,
    set_home_point,
)
from .access import api_access, api_resident_id

blp = Blueprint(
    "location_api",
    __name__,
    url_prefix="/api/v1/me/location",
    description="Your home location: address, point on the map or neighbourhood (yours only)",
)


class LocationNeighbourhoodSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class LocationSchema(Schema):
    status = fields.String(
        allow_none=True,
        metadata={"enum": ["pending", "found", "not_found", "unavailable", None]},
    )
    location_source = fields.String(
        allow_none=True, metadata={"enum": ["geocoder", "map", "postcode_area", "worker", "demo"]}
    )
    postcode = fields.String(allow_none=True)
    house_number = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    has_point = fields.Boolean(required=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    neighbourhood = fields.Nested(LocationNeighbourhoodSchema, allow_none=True)
    in_service_area = fields.Boolean(required=True)
    geocoder_configured = fields.Boolean(required=True)


class HouseNumberField(fields.String):
    """Text, but a plain JSON number (12) is taken as "12" too."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class LocationInSchema(Schema):
    """One of: postcode + house_number (street, city optional), lat + lon, neighbourhood_code."""

    postcode = fields.String(metadata={"example": "7551 AB"})
    house_number = HouseNumberField(metadata={"example": "12a"})
    street = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    # Range and finiteness are checked by the service, which names the field.
    lat = fields.Float(allow_nan=True, metadata={"example": 52.264})
    lon = fields.Float(allow_nan=True, metadata={"example": 6.7935})
    neighbourhood_code = fields.String(metadata={"example": "BU01640000"})


_SHAPES = (("postcode", "house_number", "street", "city"), ("lat", "lon"), ("neighbourhood_code",))


def _shape(body: dict) -> int:
    """Which of the three kinds of body this is; Invalid when none or several."""
    given = [i for i, names in enumerate(_SHAPES) if any(n in body for n in names)]
    if len(given) != 1:
        raise Invalid(
            "give either postcode and house_number, or lat and lon, or neighbourhood_code",
            field="location",
            rule="one_of",
        )
    return given[0]


@blp.route("")
class MyLocation(MethodView):
    @blp.response(200, LocationSchema)
    @api_access("resident")
    def get(self):
        """Your address, how it was placed (status, source) and your neighbourhood."""
        return home_location(api_resident_id())

    @blp.arguments(LocationInSchema)
    @blp.response(200, LocationSchema)
    @blp.alt_response(202, schema=LocationSchema, description="Address saved; looked up later")
    @api_access("resident")
    def put(self, body: dict):
        """Set your home: an address (422 naming `postcode` when it does not exist), a point on
        the map (422 naming `location` outside every neighbourhood) or a neighbourhood."""
        resident_id = api_resident_id()
        shape = _shape(body)
        if shape == 0:
            set_home_address(
                resident_id,
                body.get("postcode"),
                body.get("house_number"),
                body.get("street"),
                body.get("city"),
                lookup_timeout=API_LOOKUP_SECONDS,
            )
        elif shape == 1:
            set_home_point(resident_id, body.get("lat"), body.get("lon"))
        else:
            set_home_neighbourhood(resident_id, body.get("neighbourhood_code"))
        location = home_location(resident_id)
        return location, (202 if location["status"] == "pending" else 200)
