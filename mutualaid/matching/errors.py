"""The engine's one exception: bad input, named."""


class EngineInputError(ValueError):
    """Input the engine cannot use; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
