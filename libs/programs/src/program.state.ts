import { ProgramEvent, ProgramSettings, ProgramSettingsChanged } from './programs.events';

export interface ProgramState {
  programId: string;
  createdAt: string;
  created: ProgramSettings;
  changes: Pick<ProgramSettingsChanged, 'version' | 'effectiveAt' | 'changes' | 'occurredAt'>[];
  storefronts: { storefrontId: string; name: string; occurredAt: string }[];
}

export function evolveProgram(state: ProgramState | null, event: ProgramEvent): ProgramState | null {
  switch (event.type) {
    case 'ProgramCreated':
      return { programId: event.programId, createdAt: event.occurredAt, created: event.settings, changes: [], storefronts: [] };
    case 'ProgramSettingsChanged':
      if (!state) return state;
      return {
        ...state,
        changes: [
          ...state.changes,
          { version: event.version, effectiveAt: event.effectiveAt, changes: event.changes, occurredAt: event.occurredAt },
        ],
      };
    case 'StorefrontRegistered':
      if (!state) return state;
      return {
        ...state,
        storefronts: [...state.storefronts, { storefrontId: event.storefrontId, name: event.name, occurredAt: event.occurredAt }],
      };
  }
}

/**
 * The settings as they stood at `at`: the created settings with every change whose effectiveAt is not
 * later than `at` applied in (effectiveAt, version) order. Version 1 is the program as created.
 */
export function settingsAt(state: Pick<ProgramState, 'created' | 'changes'>, at: string): { settings: ProgramSettings; version: number } {
  const t = Date.parse(at);
  const applied = state.changes
    .filter((c) => Date.parse(c.effectiveAt) <= t)
    .sort((a, b) => Date.parse(a.effectiveAt) - Date.parse(b.effectiveAt) || a.version - b.version);
  let settings = state.created;
  let version = 1;
  for (const c of applied) {
    settings = { ...settings, ...c.changes };
    version = Math.max(version, c.version);
  }
  return { settings, version };
}

export function latestVersion(state: Pick<ProgramState, 'changes'>): number {
  return state.changes.reduce((v, c) => Math.max(v, c.version), 1);
}

export function landingHostAllowed(settings: ProgramSettings, url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  const allowed = [new URL(settings.defaultLandingUrl).hostname.toLowerCase(), ...settings.allowedLandingHosts.map((h) => h.toLowerCase())];
  return allowed.includes(host);
}
