# --- session store fixtures (store engineer) -------------------------------
from .store_fixtures import fake_clock, store, store_factory, store_location  # noqa: F401
# --- end session store fixtures ---------------------------------------------
