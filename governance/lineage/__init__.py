"""OpenLineage for the platform: run events for every materialisation, their transports, and review.

Events are built with openlineage-python's classes and sent through its pluggable transports; this
package adds the platform's naming, facets (schema, ownership, quality, PII tags), an object-store
archive transport, and the readers that turn stored events back into a graph for stewards.
"""
