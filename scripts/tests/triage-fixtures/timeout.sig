timeout | (no spwire frame)
