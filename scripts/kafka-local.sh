#!/usr/bin/env bash
# A real Apache Kafka broker for development and tests, without Docker:
#   scripts/kafka-local.sh start|stop|status|restart
# Resolves the official Apache Kafka jars from Maven Central with Maven into a cache outside git,
# formats KRaft storage once, and runs one combined broker/controller on 127.0.0.1 with its own
# data dir and a small heap. Idempotent: start on a running broker and stop on a stopped one succeed.
#
# Environment:
#   KAFKA_PORT             client port (default 9092); the controller listens on KAFKA_PORT+1
#   KAFKA_VERSION          Apache Kafka release (default 3.9.1; kafkajs 2.x needs protocol versions Kafka 4 removed)
#   KAFKA_LOCAL_CACHE      jar cache and instance dirs (default ~/.cache/affiliate-kafka)
#   KAFKA_LOCAL_DIR        this instance's dir: config, data, pid, log (default $KAFKA_LOCAL_CACHE/instances/<port>)
#   KAFKA_HEAP             JVM heap options (default "-Xms128m -Xmx512m")
#   KAFKA_START_TIMEOUT    seconds to wait until the broker answers (default 90)
#   KAFKA_FRESH=1          start on empty storage: what earlier runs left (topics, partitions) is removed first.
#                          Test runs and the benchmark start their broker this way: topics with run-unique
#                          names otherwise pile up across runs and slow the broker down (a broker with ~200
#                          leftover partitions on 2 busy cores missed its own controller heartbeats).
set -euo pipefail

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="$((PORT + 1))"
VERSION="${KAFKA_VERSION:-3.9.1}"
SLF4J_VERSION="1.7.36"     # what Kafka 3.9 itself ships with
RELOAD4J_VERSION="1.2.25"
CACHE="${KAFKA_LOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/affiliate-kafka}"
JARS="$CACHE/kafka-$VERSION/lib"
INSTANCE="${KAFKA_LOCAL_DIR:-$CACHE/instances/$PORT}"
PIDFILE="$INSTANCE/kafka.pid"
LOG="$INSTANCE/server.log"
HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

say() { printf 'kafka-local: %s\n' "$*" >&2; }

# Alive and still our broker: after a reboot the pid in a stale pid file may belong to another process.
pid_alive() {
  [[ -f "$PIDFILE" ]] && ps -p "$(cat "$PIDFILE")" -o args= 2>/dev/null | grep -q 'kafka\.Kafka'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# Ready means: our process is alive, the client port accepts connections and the server logged that it started.
ready() {
  pid_alive && port_open && grep -q 'Kafka Server started' "$LOG" 2>/dev/null
}

resolve_jars() {
  mkdir -p "$CACHE/kafka-$VERSION"
  # One resolver at a time: two test runs starting together must not write the same jars.
  exec 9>"$CACHE/kafka-$VERSION/.lock"
  flock 9
  if [[ -f "$JARS/.complete" ]]; then flock -u 9; return; fi
  command -v mvn >/dev/null || { say "Maven (mvn) is needed to download Apache Kafka from Maven Central"; exit 1; }
  command -v java >/dev/null || { say "Java 17+ is needed to run Apache Kafka"; exit 1; }
  say "resolving Apache Kafka $VERSION from Maven Central into $JARS (first run only)"
  cat >"$CACHE/kafka-$VERSION/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.affiliate</groupId>
  <artifactId>kafka-local</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <!-- the server logs through SLF4J and starts without a binding only with a warning and no logs -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.6.1</version>
  </plugin></plugins></build>
</project>
EOF
  rm -rf "$JARS"
  mvn -q -B -f "$CACHE/kafka-$VERSION/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$JARS" -DincludeScope=runtime >"$CACHE/kafka-$VERSION/maven.log" 2>&1 || {
    say "Maven could not resolve Apache Kafka $VERSION; see $CACHE/kafka-$VERSION/maven.log"
    tail -20 "$CACHE/kafka-$VERSION/maven.log" >&2
    exit 1
  }
  touch "$JARS/.complete"
  flock -u 9
}

write_config() {
  mkdir -p "$INSTANCE/data"
  cat >"$INSTANCE/server.properties" <<EOF
# Written by scripts/kafka-local.sh: one combined broker/controller (KRaft) for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$INSTANCE/data
# Topics are created explicitly by npm run kafka:topics, with their partition counts; a typo must not create one.
auto.create.topics.enable=false
# A single node: internal topics cannot have more replicas than brokers, and acks=all means this one.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# Tests start and stop consumers often: do not wait 3 s for more members before the first assignment.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$INSTANCE/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOG
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.controller=INFO
EOF
}

classpath() {
  local cp="" jar
  for jar in "$JARS"/*.jar; do cp="$cp:$jar"; done
  printf '%s' "${cp#:}"
}

start() {
  if ready; then
    say "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    return 0
  fi
  if ! pid_alive && port_open; then
    say "127.0.0.1:$PORT is taken by another process; set KAFKA_PORT to use another port"
    exit 1
  fi
  resolve_jars
  write_config
  local cp
  cp="$(classpath)"
  if ! pid_alive; then
    if [[ "${KAFKA_FRESH:-}" == "1" ]]; then
      rm -rf "$INSTANCE/data"
    fi
    if [[ ! -f "$INSTANCE/data/meta.properties" ]]; then
      local cluster_id
      cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
      java -Dlog4j.configuration="file:$INSTANCE/log4j.properties" -cp "$cp" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$INSTANCE/server.properties" --ignore-formatted >"$INSTANCE/format.log" 2>&1 || {
        say "formatting the KRaft storage failed; see $INSTANCE/format.log"
        cat "$INSTANCE/format.log" >&2
        exit 1
      }
    fi
    : >"$LOG"
    # setsid: the broker outlives the shell (and the test run's process group) that started it.
    setsid java $HEAP -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$INSTANCE/log4j.properties" -Dkafka.logs.dir="$INSTANCE" \
      -cp "$cp" kafka.Kafka "$INSTANCE/server.properties" >"$INSTANCE/stdout.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  local waited=0
  until ready; do
    if ! pid_alive; then
      say "the broker exited during start-up; last lines of $LOG and $INSTANCE/stdout.log:"
      tail -30 "$LOG" "$INSTANCE/stdout.log" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if ((waited >= TIMEOUT * 5)); then
      say "the broker did not answer on 127.0.0.1:$PORT within ${TIMEOUT}s; see $LOG"
      exit 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data in $INSTANCE/data)"
}

stop() {
  if ! pid_alive; then
    rm -f "$PIDFILE"
    say "not running on 127.0.0.1:$PORT"
    return 0
  fi
  local pid waited=0
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  # A controlled shutdown of a single node takes a few seconds; after 30 s it is killed.
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 150)); then
      say "the broker did not stop within 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  rm -f "$PIDFILE"
  say "stopped (127.0.0.1:$PORT)"
}

status() {
  if ready; then
    say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data in $INSTANCE/data)"
    return 0
  fi
  if pid_alive; then
    say "starting on 127.0.0.1:$PORT (pid $(cat "$PIDFILE")), not answering yet"
    return 1
  fi
  say "not running on 127.0.0.1:$PORT"
  return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|status|restart   (KAFKA_PORT=$PORT)" >&2; exit 2 ;;
esac
