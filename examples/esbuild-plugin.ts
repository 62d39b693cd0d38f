/**
 * celery-gen inside a build: an esbuild plugin that runs `generateProject` at the start
 * of every build (and every rebuild in esbuild's watch mode), so the generated task
 * modules are current before esbuild reads them. Diagnostics become esbuild messages
 * with their file and line; any error fails the build.
 *
 * ```ts
 * await esbuild.build({ entryPoints: ['src/main.ts'], bundle: true, plugins: [celeryGen(config, { dir: projectDir })] });
 * ```
 */
import type { PartialMessage, Plugin } from 'esbuild';
import { type CeleryGenConfig, type Diagnostic, type ProjectOptions, generateProject } from 'celery-gen/generator';

function toMessage(d: Diagnostic): PartialMessage {
  // esbuild columns are 0-based; a diagnostic's line 0 means "the whole file".
  return { text: d.message, location: d.line > 0 ? { file: d.file, line: d.line, column: d.column - 1 } : { file: d.file } };
}

export function celeryGen(config: CeleryGenConfig, options: ProjectOptions = {}): Plugin {
  return {
    name: 'celery-gen',
    setup(build) {
      build.onStart(async () => {
        const result = await generateProject(config, options);
        const all = [...result.diagnostics, ...result.outputs.flatMap((o) => o.diagnostics)];
        return {
          errors: all.filter((d) => d.severity === 'error').map(toMessage),
          warnings: all.filter((d) => d.severity === 'warning').map(toMessage),
        };
      });
    },
  };
}
