"""`tracker report`: the province's state, read from the services' public APIs, as text or as
one self-contained HTML page."""
