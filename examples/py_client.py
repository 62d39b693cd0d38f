"""Python client → TypeScript worker (start examples/ts-worker.ts first).

    cd examples && /usr/bin/python3 py_client.py
"""
from tasks import add, divide, greet, make_invoice

print('add(2, 3) =', add.delay(2, 3).get(timeout=10))
print('greet(...) =', greet.apply_async(['Ann'], {'shout': True}).get(timeout=10))
print('make_invoice(...) =', make_invoice.delay('ACME', [1000, 2500], 0.1).get(timeout=10))
try:
    divide.delay(1, 0).get(timeout=10)
except ZeroDivisionError as exc:
    print('divide(1, 0) raised ZeroDivisionError in the TS worker:', exc)
