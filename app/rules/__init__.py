"""Pure rules: quality flags, required attributes, time-limit parsing and working days.

The ground floor of the house: nothing here imports models, services, api or render;
they all import down from here."""
