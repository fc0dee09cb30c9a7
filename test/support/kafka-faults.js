/**
 * Fault injection for the Kafka integration specs, preloaded into a role process with
 * NODE_OPTIONS="--require test/support/kafka-faults.js". Never part of the app: it patches kafkajs in the
 * child process only, so a test can stop a process at an exact point and kill it there.
 *
 *   FAULT_HANG_COMMIT_AT=n   the n-th offset commit (each comes right after a batch was appended) prints
 *                            "FAULT commit-hanging" and never completes: the batch is in the store, its offset is not.
 *   FAULT_ANNOUNCE_REJOIN=1  prints "FAULT rejoin <n>" each time the consumer (re)joins its group after the
 *                            first join, i.e. when a rebalance has started.
 */
const OffsetManager = require('kafkajs/src/consumer/offsetManager');
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup');

const hangAt = Number(process.env.FAULT_HANG_COMMIT_AT || 0);
if (hangAt > 0) {
  let commits = 0;
  const commitOffsets = OffsetManager.prototype.commitOffsets;
  OffsetManager.prototype.commitOffsets = function (offsets) {
    if (offsets && offsets.topics && offsets.topics.length > 0) {
      commits += 1;
      if (commits === hangAt) {
        process.stdout.write(`\nFAULT commit-hanging ${JSON.stringify(offsets.topics)}\n`);
        return new Promise(() => undefined);
      }
    }
    return commitOffsets.call(this, offsets);
  };
}

if (process.env.FAULT_ANNOUNCE_REJOIN) {
  let joins = 0;
  const joinAndSync = ConsumerGroup.prototype.joinAndSync;
  ConsumerGroup.prototype.joinAndSync = function (...args) {
    joins += 1;
    if (joins > 1) process.stdout.write(`\nFAULT rejoin ${joins}\n`);
    return joinAndSync.apply(this, args);
  };
}
