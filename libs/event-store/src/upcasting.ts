import { RecordedEvent } from './event-store.port';

/**
 * Turns the stored shape of one event type at one schema version into the next version's shape.
 * History is never rewritten: the store keeps what was appended and every adapter upcasts on read, so
 * deciders, evolvers and projections only ever see the current shape. An upcaster is pure (no clock, no
 * I/O) and total for every event of its type and version, because a replay will meet all of them.
 */
export interface Upcaster<From = any, To = any> {
  type: string;
  fromVersion: number;
  upcast(data: From): To;
}

/**
 * The registry both adapters consult on every read. Chains apply one version at a time
 * (v1 → v2 → v3), so adding version N+1 needs one new upcaster, never a rewrite of the old ones.
 */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: Upcaster[] = []) {
    for (const u of upcasters) this.register(u);
  }

  register(upcaster: Upcaster): this {
    const key = keyOf(upcaster.type, upcaster.fromVersion);
    // Two upcasters from the same version would make the current shape depend on registration order.
    if (this.byKey.has(key)) throw new Error(`an upcaster for ${upcaster.type} v${upcaster.fromVersion} is already registered`);
    this.byKey.set(key, upcaster);
    return this;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The event in its current shape and version; the same object when no upcaster applies. */
  apply<E extends RecordedEvent>(event: E): E {
    let next = this.byKey.get(keyOf(event.type, event.schemaVersion));
    if (!next) return event;
    let data = event.data;
    let version = event.schemaVersion;
    while (next) {
      data = next.upcast(data);
      version += 1;
      next = this.byKey.get(keyOf(event.type, version));
    }
    return { ...event, data, schemaVersion: version };
  }
}

function keyOf(type: string, version: number): string {
  return `${type}@${version}`;
}
