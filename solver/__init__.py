"""paichan's planning engine: data, calendars, the CP-SAT model and its checker."""
