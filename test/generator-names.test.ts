/** Generated names (names.ts) and docstring parsing (docstrings.ts), table-driven. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleandoc, parseDocstring } from '../generator/docstrings.js';
import { camelCase, namespaceKeys, paramName, propertyKey, quote } from '../generator/names.js';

const CAMEL: [string, string][] = [
  ['send_receipt', 'sendReceipt'],
  ['add', 'add'],
  ['SendReceipt', 'sendReceipt'],
  ['HTTPPing', 'httpPing'],
  ['URL', 'url'],
  ['_private_task', '_privateTask'],
  ['task_', 'task_'],
  ['task__double', 'taskDouble'],
  ['echo_int', 'echoInt'],
  ['v2_api', 'v2Api'],
  ['grüßen_sie', 'grüßenSie'],
  // Capital runs with letters beyond ASCII (the \p{Lu} path).
  ['ÜBER_task', 'überTask'],
  ['ÄpfelSorten', 'äpfelSorten'],
  ['HÉLLOWorld', 'hélloWorld'],
  ['ABÇdef', 'abÇdef'],
  ['ÆØÅ', 'æøå'],
];

for (const [given, want] of CAMEL) test(`camelCase(${given}) = ${want}`, () => assert.equal(camelCase(given), want));

test('reserved words are escaped as parameter names but not as keys', () => {
  assert.equal(paramName('new'), 'new_');
  assert.equal(paramName('arguments'), 'arguments_');
  assert.equal(paramName('name'), 'name');
  assert.equal(propertyKey('default'), 'default');
  assert.equal(propertyKey('not-an-identifier'), "'not-an-identifier'");
});

test('quote escapes what a single-quoted literal needs', () => {
  assert.equal(quote("it's \\ \n\u2028"), "'it\\'s \\\\ \\n\\u2028'");
});

test('namespace keys drop the segments all modules share', () => {
  assert.deepEqual(namespaceKeys(['billing.tasks', 'mail.tasks']), ['billing', 'mail']);
  assert.deepEqual(namespaceKeys(['proj.billing.tasks', 'proj.mail.tasks']), ['billing', 'mail']);
  assert.deepEqual(namespaceKeys(['proj.tasks', 'proj.jobs.tasks']), ['tasks', 'jobsTasks']);
  assert.deepEqual(namespaceKeys(['tasks', 'other_tasks']), ['tasks', 'otherTasks']);
  assert.deepEqual(namespaceKeys(['a.tasks', 'a.tasks']), ['tasks', 'tasks']);
});

test('cleandoc dedents as inspect.cleandoc does', () => {
  assert.equal(cleandoc('Summary.\n\n    Body line.\n      Indented.\n    '), 'Summary.\n\nBody line.\n  Indented.');
  assert.equal(cleandoc('\n    Starts on the second line.\n'), 'Starts on the second line.');
});

test('Google, NumPy and Sphinx parameter sections', () => {
  const google = parseDocstring('Does it.\n\nArgs:\n    a (int): First.\n        More.\n    *rest: Others.\n\nReturns:\n    str: Done.');
  assert.deepEqual(google, { description: 'Does it.', params: [['a', 'First. More.'], ['rest', 'Others.']], returns: 'Done.', raises: [] });
  const numpy = parseDocstring('Does it.\n\nParameters\n----------\nx, y : int\n    Coordinates.\n\nReturns\n-------\nint\n    Sum.');
  assert.deepEqual(numpy, { description: 'Does it.', params: [['x', 'Coordinates.']], returns: 'Sum.', raises: [] });
  const sphinx = parseDocstring('Does it.\n\n:param int a: First\n    continued.\n:type a: int\n:returns: Done.');
  assert.deepEqual(sphinx, { description: 'Does it.', params: [['a', 'First continued.']], returns: 'Done.', raises: [] });
});
