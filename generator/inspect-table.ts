/** The readable form of `inspect`: one line per task, then the named types and exception classes. */
import type { Manifest, Task } from './model.js';
import { camelCase } from './names.js';

function signature(t: Task): string {
  const params = t.params.map((p) => {
    const prefix = p.kind === 'var_positional' ? '*' : p.kind === 'var_keyword' ? '**' : '';
    return `${prefix}${p.name}: ${p.tsType}${p.default ? ` = ${p.default.source}` : ''}`;
  });
  return `(${params.join(', ')}) -> ${t.returns.tsType}`;
}

export function formatTable(m: Manifest): string {
  const rows = m.tasks.map((t) => [t.name ?? '(name unresolved)', camelCase(t.function) + (t.bind ? ' (bind)' : ''), signature(t), `${t.location.file}:${t.location.line}`]);
  const header = ['TASK', 'KEY', 'SIGNATURE', 'LOCATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  out.push('', `${m.tasks.length} task${m.tasks.length === 1 ? '' : 's'} in ${m.modules.map((x) => `${x.module} (${x.file})`).join(', ') || 'no modules'}`);
  if (m.types.length > 0) out.push(`types: ${m.types.map((t) => `${t.name} (${t.kind})`).join(', ')}`);
  if (m.exceptions.length > 0) out.push(`exceptions: ${m.exceptions.map((e) => `${e.name} (${e.module})`).join(', ')}`);
  return `${out.join('\n')}\n`;
}
