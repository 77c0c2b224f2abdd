"""Department access to the marts buckets, generated from the grants registry."""
