"""``python -m services.singleview`` = ``mais singleview``."""

from services.singleview._cli import app

app()
