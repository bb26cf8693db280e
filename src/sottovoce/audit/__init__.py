"""``sottovoce audit``: proof, on the operator's own deployment, that ZDR requests leave nothing.

- :mod:`~sottovoce.audit.markers`: canaries and the forms they are searched in;
- :mod:`~sottovoce.audit.probe`: what the surfaces' probes are made of (each surface package
  declares its own probes, so a new surface brings its probes along);
- :mod:`~sottovoce.audit.server`: the server under audit (started here, or already running);
- :mod:`~sottovoce.audit.search`: every place a server could persist content;
- :mod:`~sottovoce.audit.run`: the ZDR run, the negative control and the report.
"""
