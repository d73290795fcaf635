"""Operations: what tells a data officer that something went wrong."""
