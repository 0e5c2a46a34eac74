"""The sample portal: a realistic government portal the demo and the tests crawl on 127.0.0.1 (not runtime code)."""
