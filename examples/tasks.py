"""Example Celery tasks shared by a Python and a TypeScript side.

Run the Python worker:   /usr/bin/python3 -m celery -A tasks worker -P solo -l info
"""
import os
from typing import Optional, TypedDict

from celery import Celery

app = Celery('tasks', broker=os.environ.get('CELERY_BROKER_URL', 'amqp://guest:guest@127.0.0.1:5672//'), backend='rpc://')
app.conf.task_default_queue = os.environ.get('EXAMPLE_QUEUE', 'celery')


class Invoice(TypedDict):
    customer: str
    total_cents: int
    paid: bool


@app.task
def add(x: int, y: int) -> int:
    """Adds two numbers."""
    return x + y


@app.task
def greet(name: str, greeting: str = 'Hello', *, shout: bool = False) -> str:
    """Greets someone.

    Args:
        name: Who to greet.
        greeting: The word to greet with.
        shout: Upper-case the whole greeting.
    """
    text = f'{greeting}, {name}!'
    return text.upper() if shout else text


@app.task
def make_invoice(customer: str, items: list[int], discount: Optional[float] = None) -> Invoice:
    """Builds an invoice from item prices in cents."""
    total = sum(items)
    if discount:
        total = round(total * (1 - discount))
    return {'customer': customer, 'total_cents': total, 'paid': False}


@app.task
def divide(a: float, b: float) -> float:
    """Divides; b == 0 raises ZeroDivisionError on the Python side."""
    return a / b
