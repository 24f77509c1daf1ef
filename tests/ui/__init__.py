"""The planner page in a real browser (Playwright driving the system's chromium)."""
