"""Reports for managers: SQL aggregates over the cases, never loops over ORM objects.

- :mod:`~dfg.reports.pipeline`: open cases and values by district, stage and priority, ageing, cases
  past their decision or completion due date, the longest open.
- :mod:`~dfg.reports.performance`: time between stage boundaries against the targets, urgent and
  non-urgent, end to end, monthly throughput.
- :mod:`~dfg.reports.closures`: cases closed in a period, by outcome and reason.
- :mod:`~dfg.reports.data_return`: the annual government data return extract.

Each report is a dataclass with ``as_dict()`` (for ``--json``), ``as_text()`` (aligned plain text),
``as_csv()`` and ``as_pdf()`` (A4 with SVG charts, laid out by :mod:`~dfg.reports.document`).
"""
