"""Incidents: a failed blocking check becomes a record with an owner, who is told, and escalation
until someone acknowledges it or the check passes again.

- ``model``: the incident record and what was delivered to whom;
- ``rules``: pure decisions (open, close, who is due a notice by now);
- ``store``: records in the ``governance`` bucket, one writer per object;
- ``channels``: how a notice reaches a person (a folder of e-mails on the laptop, SMTP in production);
- ``config``: ``CITY_INCIDENT_*`` and ``CITY_SMTP_*`` settings;
- ``service``: one pass of all of the above, what the Dagster sensor runs.
"""
