"""The ``dfg`` command's groups, one module each, over the services in ``dfg.services``.

``cli.py`` assembles them and loads each only when it is run. What every group shares (the context, the
options, the output and the error handling) is in :mod:`dfg.cli.command`. Nothing here imports
``dfg.store`` or SQLAlchemy: the database comes through :mod:`dfg.services.database`.
"""
