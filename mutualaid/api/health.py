"""GET /api/v1/health: is the service and what it depends on working?"""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services.health import check_health
from .access import public

blp = Blueprint(
    "health",
    __name__,
    url_prefix="/api/v1/health",
    description="Health of the service and its dependencies",
)


class DependencySchema(Schema):
    ok = fields.Boolean(required=True)
    latency_ms = fields.Float()
    error = fields.String()
    dialect = fields.String()
    embedded = fields.Boolean()
    outbox_pending = fields.Integer(metadata={"description": "rows waiting to be matched"})
    outbox_oldest_age_s = fields.Float(allow_none=True)
    queues = fields.Dict(keys=fields.String(), values=fields.Integer())
    failed_jobs = fields.Integer()
    workers = fields.Integer()


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "degraded", "down"]})
    database = fields.Nested(DependencySchema, required=True)
    redis = fields.Nested(DependencySchema, required=True)


@blp.route("")
class Health(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
    def get(self):
        """Database and Redis status; `degraded` (still 200) when only Redis is down."""
        report = check_health()
        return report, (503 if report["status"] == "down" else 200)
