/**
 * A TS consumer that takes one message and then hangs, for the test that SIGKILLs it
 * mid-task: prints `taken <tag>` once the message is parked in `unacked`.
 * Usage: node --import tsx redis-crash-consumer.ts <redis url> <queue>
 */
import { RedisBroker } from '../../runtime/redis/broker.js';

const [url, queue] = process.argv.slice(2) as [string, string];
const broker = new RedisBroker({ url });
broker.consume([queue], (delivery) => {
  process.stdout.write(`taken ${delivery.deliveryTag}\n`);
});
