"""Landing zone → raw tables: declarative entity specs read by one loader."""
