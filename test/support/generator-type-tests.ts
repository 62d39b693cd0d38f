/**
 * Type-level tests of generated modules: calls that must compile, and calls that must
 * not. Each `@ts-expect-error` names the error code it expects; compile.test.ts checks
 * both that this file compiles cleanly (so every expectation is met) and that removing
 * an expectation yields exactly that error on the next line (so none is vacuous).
 */
import type { TaskClients, TaskHandlers } from '../../fixtures/basic/tasks.js';
import type { TaskClients as ParamsClients, TaskHandlers as ParamsHandlers } from '../../fixtures/params/tasks.js';
import type { TaskClients as ClassesClients } from '../../fixtures/types-classes/tasks.js';
import type { TaskClients as MultiClients } from '../../fixtures/multi-module/tasks.js';

export async function clientCalls(tasks: TaskClients, params: ParamsClients, classes: ClassesClients, multi: MultiClients): Promise<void> {
  const sum: number = await (await tasks.add.delay(2, 3)).get();
  const greeting: string = await (await tasks.hello.delay('Ann')).get({ timeout: 1000 });
  await tasks.hello.delay('Ann', 'Hi');
  await tasks.hello.applyAsync(['Ann'], { greeting: 'Hi' }, { countdown: 5 });
  await params.kinds.applyAsync([1, 'b', 2.5], { e: 3, anything: 4 });
  await params.keywordOnly.applyAsync([], { limit: 5 });
  await params.reserved.delay(1, 'x', true, 1, 2, 3);
  await classes.draw.delay(1, [0, 0, ''], null);
  await multi.billing.send.delay('a@b.c');
  void [sum, greeting];

  // @ts-expect-error TS2345 wrong argument type: x is an int
  await tasks.add.delay('2', 3);
  // @ts-expect-error TS2554 missing required argument y
  await tasks.add.delay(2);
  // @ts-expect-error TS2554 too many positional arguments
  await tasks.add.delay(1, 2, 3);
  // @ts-expect-error TS2353 unknown keyword argument
  await tasks.hello.applyAsync(['Ann'], { nickname: 'A' });
  // @ts-expect-error TS2322 the result is a number
  const wrong: string = await (await tasks.add.delay(1, 2)).get();
  // @ts-expect-error TS2345 an Enum's values only
  await classes.draw.delay(3, [0, 0, ''], null);
  // @ts-expect-error TS2353 a TypedDict's keys only
  await classes.ship.delay({ order_id: 1, items: [] }, { street: '', city: '', country: '' }, { name: 'x' });
  // @ts-expect-error TS2554 keyword-only parameters are not positional
  await params.keywordOnly.delay(5);
  // @ts-expect-error TS2339 namespaced by module: no flat keys
  await multi.send.delay('a');
  void wrong;
}

export const handlers: TaskHandlers = {
  add: (x, y) => x + y,
  hello: async (name, greeting) => `${greeting}, ${name}`,
};

export const paramsHandlers: Pick<ParamsHandlers, 'kinds' | 'kwargsOnly'> = {
  kinds: (_a, _b, _c, _d, rest, _e, _f, extra) => {
    void [rest.join(), Object.keys(extra)];
    return null;
  },
  // `-> None` handlers may return nothing.
  kwargsOnly: (options) => {
    void options;
  },
};

export const wrongHandlers: TaskHandlers = {
  // @ts-expect-error TS2322 the handler must return a number
  add: (x, y) => `${x}${y}`,
  // @ts-expect-error TS2322 the parameter is a string
  hello: (name: number) => String(name),
};
