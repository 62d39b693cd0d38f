/**
 * The ts-morph project generated modules are type-checked in: the flags users' configs
 * have (strict, noUnusedLocals, noUnusedParameters, exactOptionalPropertyTypes) and
 * 'celery-gen' mapped to the runtime's sources. Shared by the compile and fuzz tests so
 * both check output the same way.
 */
import { join } from 'node:path';
import { type Diagnostic, Project, ts } from 'ts-morph';
import { ROOT_DIR } from './generator-fixtures.js';

export function generatedModuleProject(): Project {
  return new Project({
    tsConfigFilePath: join(ROOT_DIR, 'tsconfig.json'),
    skipAddingFilesFromTsConfig: true,
    compilerOptions: {
      strict: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      paths: { 'celery-gen': [join(ROOT_DIR, 'runtime/index.ts')] },
    },
  });
}

export function describeDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const file = d.getSourceFile()?.getFilePath() ?? '?';
      const line = d.getLineNumber() ?? 0;
      return `${file}:${line}: TS${d.getCode()} ${ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, '\n')}`;
    })
    .join('\n');
}
