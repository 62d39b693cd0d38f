/**
 * runtime-log-level.test.ts's child: runs its three tasks with the default logger, so the
 * parent reads what a user would see on stderr at the level CELERY_GEN_LOG_LEVEL gives.
 */
import { runThree } from './log-level-tasks.js';

await runThree({});
