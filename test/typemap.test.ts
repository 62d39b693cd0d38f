/**
 * The type mapping table, one row per Python annotation form: the TypeScript type, the
 * wire type the runtime checks, and the warning (if any) with its position.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildManifest } from '../generator/index.js';
import type { Param, WireType } from '../generator/model.js';
import { TypeMapper } from '../generator/typemap.js';
import { fixtureCases } from './support/generator-fixtures.js';

const PRELUDE = `import datetime, typing, uuid
from datetime import date, time
from decimal import Decimal
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Dict, FrozenSet, List, Literal, Optional, Tuple, Union
from celery import Celery
app = Celery('t')
`;

/** Maps one parameter annotation (with an optional default) through extract + typemap. */
function mapParam(annotation: string | null, defaultSource?: string, extra = ''): { param: Param; warnings: string[] } {
  const decl = `x${annotation === null ? '' : `: ${annotation}`}${defaultSource === undefined ? '' : ` = ${defaultSource}`}`;
  const text = `${PRELUDE}${extra}\n@app.task\ndef f(${decl}) -> None:\n    pass\n`;
  const m = buildManifest([{ file: 't.py', module: 't', text }]);
  const task = m.tasks[0];
  assert.ok(task, `no task found for ${decl}`);
  const errors = m.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, [], `errors for ${decl}`);
  return { param: task.params[0]!, warnings: m.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`) };
}

const INT: WireType = { type: 'number', integer: true };
const NUM: WireType = { type: 'number' };
const STR: WireType = { type: 'string' };
const NULL: WireType = { type: 'null' };

interface Row {
  readonly given: string | null;
  readonly ts: string;
  readonly wire?: WireType;
  readonly default?: string;
  /** Warning codes expected (positions checked separately). */
  readonly warn?: string[];
  readonly extra?: string;
}

const ROWS: Row[] = [
  { given: 'int', ts: 'number', wire: INT },
  { given: 'float', ts: 'number', wire: NUM },
  { given: 'str', ts: 'string', wire: STR },
  { given: 'bool', ts: 'boolean', wire: { type: 'boolean' } },
  { given: 'None', ts: 'null', wire: NULL },
  { given: 'bytes', ts: 'Uint8Array', wire: { type: 'bytes' }, warn: ['bytes-over-json'] },
  { given: 'datetime.datetime', ts: 'string', wire: STR },
  { given: 'date', ts: 'string', wire: STR },
  { given: 'time', ts: 'string', wire: STR },
  { given: 'uuid.UUID', ts: 'string', wire: STR },
  { given: 'Decimal', ts: 'string', wire: STR },
  { given: 'list[int]', ts: 'number[]', wire: { type: 'array', items: INT } },
  { given: 'List[str]', ts: 'string[]' },
  { given: 'Sequence[float]', ts: 'number[]' },
  { given: 'set[str]', ts: 'string[]' },
  { given: 'FrozenSet[int]', ts: 'number[]' },
  { given: 'list', ts: 'unknown[]', wire: { type: 'array', items: { type: 'unknown' } } },
  { given: 'tuple[int, str]', ts: '[number, string]', wire: { type: 'tuple', items: [INT, STR] } },
  { given: 'Tuple[bool, float]', ts: '[boolean, number]' },
  { given: 'tuple[int, ...]', ts: 'number[]', wire: { type: 'array', items: INT } },
  { given: 'tuple[()]', ts: '[]', wire: { type: 'tuple', items: [] } },
  { given: 'dict[str, int]', ts: 'Record<string, number>', wire: { type: 'record', values: INT } },
  { given: 'Dict[int, str]', ts: 'Record<string, string>' },
  { given: 'Mapping[str, float]', ts: 'Record<string, number>' },
  { given: 'Optional[int]', ts: 'number | null', wire: { type: 'union', members: [INT, NULL] } },
  { given: 'int | None', ts: 'number | null' },
  { given: 'typing.Optional[str]', ts: 'string | null' },
  { given: 'Union[int, str]', ts: 'number | string', wire: { type: 'union', members: [INT, STR] } },
  { given: 'Union[int, None, str]', ts: 'number | null | string' },
  { given: 'Optional[Union[int, str]]', ts: 'number | string | null' },
  { given: 'int | str | None', ts: 'number | string | null' },
  { given: "Literal['a', 'b']", ts: "'a' | 'b'", wire: { type: 'union', members: [{ type: 'literal', value: 'a' }, { type: 'literal', value: 'b' }] } },
  { given: 'Literal[1]', ts: '1', wire: { type: 'literal', value: 1 } },
  { given: 'Literal[-1, True, None]', ts: '-1 | true | null' },
  { given: `Literal["it's"]`, ts: "'it\\'s'" },
  { given: "Annotated[int, 'positive']", ts: 'number' },
  { given: "'list[int]'", ts: 'number[]' },
  { given: `"Optional['int']"`, ts: 'number | null' },
  { given: 'list[int | None]', ts: '(number | null)[]', wire: { type: 'array', items: { type: 'union', members: [INT, NULL] } } },
  { given: 'dict[str, list[tuple[int, int]]]', ts: 'Record<string, [number, number][]>' },
  { given: 'Any', ts: 'unknown', wire: { type: 'unknown' }, warn: ['unknown-type'] },
  { given: 'object', ts: 'unknown', warn: ['unknown-type'] },
  { given: null, ts: 'unknown', warn: ['unknown-type'] },
  { given: 'NotDefined', ts: 'unknown', warn: ['unknown-type'] },
  { given: 'int | Any', ts: 'unknown', warn: ['unknown-type'] },
  { given: 'list[Any]', ts: 'unknown[]', warn: ['unknown-type'] },
  { given: 'str', default: 'None', ts: 'string | null', wire: { type: 'union', members: [STR, NULL] } },
  { given: 'Optional[str]', default: 'None', ts: 'string | null' },
  { given: 'int', default: '0', ts: 'number', wire: INT },
  { given: 'Vector', ts: 'number[]', extra: 'Vector = list[float]' },
  { given: 'UserId', ts: 'number', extra: "UserId = typing.NewType('UserId', int)" },
  { given: 'Point', ts: 'Point', extra: 'class Point(typing.TypedDict):\n    x: float\n    y: float', wire: { type: 'object', fields: [{ name: 'x', value: NUM, required: true }, { name: 'y', value: NUM, required: true }] } },
  { given: 'Mode', ts: 'Mode', extra: "import enum\nclass Mode(str, enum.Enum):\n    A = 'a'\n    B = 'b'", wire: { type: 'union', members: [{ type: 'literal', value: 'a' }, { type: 'literal', value: 'b' }] } },
  { given: 'Pair', ts: 'Pair', extra: 'class Pair(typing.NamedTuple):\n    a: int\n    b: str', wire: { type: 'tuple', items: [INT, STR] } },
];

for (const row of ROWS) {
  const title = `${row.given ?? '(no annotation)'}${row.default === undefined ? '' : ` = ${row.default}`} → ${row.ts}`;
  test(`typemap: ${title}`, () => {
    const { param, warnings } = mapParam(row.given, row.default, row.extra);
    assert.equal(param.tsType, row.ts);
    if (row.wire) assert.deepEqual(param.wireType, row.wire);
    assert.deepEqual(
      warnings.map((w) => w.split(' ')[1]),
      row.warn ?? [],
      `warnings: ${warnings.join(', ')}`,
    );
  });
}

test('a warning names the type and points at its line and column', () => {
  const text = "from celery import shared_task\n\n@shared_task\ndef f(a: int, b: 'Mystery') -> None:\n    pass\n";
  const m = buildManifest([{ file: 't.py', module: 't', text }]);
  assert.deepEqual(
    m.diagnostics.map((d) => [d.line, d.column, d.severity, d.message]),
    [[4, 19, 'warning', "cannot resolve type 'Mystery'; it becomes unknown"]],
  );
});

test('return types Celery JSON cannot carry are warned about; -> None is null; a missing one is unknown', () => {
  const text = [
    'from dataclasses import dataclass',
    'from celery import shared_task',
    '@dataclass',
    'class D:',
    '    x: int',
    '@shared_task',
    'def a() -> D: ...',
    '@shared_task',
    'def b() -> set[int]: ...',
    '@shared_task',
    'def c() -> None: ...',
    '@shared_task',
    'def d(): ...',
  ].join('\n');
  const m = buildManifest([{ file: 't.py', module: 't', text }]);
  assert.deepEqual(
    m.tasks.map((t) => t.returns.tsType),
    ['D', 'number[]', 'null', 'unknown'],
  );
  assert.deepEqual(
    m.diagnostics.map((d) => `${d.line}:${d.code}`),
    ['7:return-not-json', '9:return-not-json', '13:unknown-type'],
  );
});

test('the mapper is pure: a hand-written PyType maps without a parser', () => {
  const span = { line: 1, column: 1, endLine: 1, endColumn: 4 };
  const mapper = new TypeMapper([{ file: 'm.py', module: 'm', tasks: [], classes: [], aliases: [], classDefs: [], imports: { L: 'typing.List' }, constants: {}, importedModules: [], starImports: [], appStatements: [], diagnostics: [] }]);
  const t = mapper.map(
    { kind: 'generic', name: 'L', text: 'L[int]', span, args: [{ kind: 'name', name: 'int', text: 'int', span }] },
    { file: 'm.py', module: 'm', position: 'param' },
  );
  assert.equal(t.ts, 'number[]');
  assert.deepEqual(mapper.diagnostics, []);
});

test('no generated module uses `any`', () => {
  for (const c of fixtureCases()) {
    let text: string;
    try {
      text = readFileSync(join(c.dir, 'tasks.ts'), 'utf8');
    } catch {
      continue;
    }
    const code = text.replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(code, /[:<|,(]\s*any\b|\bany\[\]/, `${c.name}/tasks.ts uses any`);
  }
});
