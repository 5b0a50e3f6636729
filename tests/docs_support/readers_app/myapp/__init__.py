"""Stand-in for the reader's application in the documentation's examples.

The examples import from it as from their own project (``from myapp.tasks
import send_email``). Every task, actor and function here records its run in
:data:`myapp.outbox.OUTBOX`, which the docs setups read; none does more.
"""
