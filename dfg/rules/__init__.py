"""Pure rules of the grant: money, means test, grant, clocks and calendar. No database, no CLI."""
