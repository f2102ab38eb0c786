/** The "Firmwares" page (R15) in English and German; German follows the wording of the original page. */
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  lang: 'en',
  title: 'Firmwares',
  pbxes: 'PBXes',
  pbx: 'PBX',
  overview: 'Firmware overview',
  vendor: 'Vendor',
  model: 'Model',
  inUse: 'Firmware in use',
  newestLocal: 'Newest local firmware',
  newestAvailable: 'Newest available firmware',
  autoUpdate: 'Auto-Update',
  autoUpdateFor: 'Auto-Update for {model}',
  rollout: 'Rollout',
  noAccounts: 'No phone accounts yet.',
  unknown: 'unknown',
  imageFirmware: 'image',
  settings: 'Settings',
  globalSwitch: 'Automatic download and installation',
  updateMoment: 'Weekly update moment',
  noUpdateMoment: 'no automatic update',
  day: 'Day',
  time: 'Time',
  save: 'Save',
  saved: 'Saved.',
  weeklyCheck: 'Weekly check (chosen at random, fixed)',
  actions: 'Actions',
  checkNow: 'Check now',
  downloadNow: 'Download now',
  updateNow: 'Update now',
  working: 'Working…',
  result: 'Result',
  rollouts: 'Rollouts',
  target: 'Target version',
  status: 'Status',
  progress: 'Progress',
  phonesDone: '{done} of {total} phones',
  rolloutCounts:
    '{updated} updated · {failed} failed · {notContacted} not contacted · {skipped} skipped — of {total} phones',
  openTemporal: 'Open in Temporal UI',
  noRollouts: 'No rollouts yet.',
  token: 'Admin token',
  signIn: 'Sign in',
  signOut: 'Sign out',
  signInHint: 'The token is kept in this browser tab only.',
  requestFailed: 'Request failed',
  catalogUnreachable: 'Firmware server not reachable',
  checkedAt: 'Checked at {at}',
  downloadNeeded: 'download needed',
  upToDate: 'nothing new',
  language: 'Deutsch',
  weekdays: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
  decision: {
    started: 'started',
    'already-running': 'already running',
    refused: 'refused',
    'nothing-to-do': 'nothing to do',
  },
  rolloutStatus: {
    running: 'running',
    completed: 'completed',
    'completed-with-failures': 'completed with failures',
    failed: 'failed',
    cancelled: 'cancelled',
    refused: 'refused',
  },
};

export type Labels = typeof en;

const de: Labels = {
  lang: 'de',
  title: 'Firmwares',
  pbxes: 'Anlagen',
  pbx: 'Anlage',
  overview: 'Firmware-Übersicht',
  vendor: 'Hersteller',
  model: 'Modell',
  inUse: 'Verwendete FW',
  newestLocal: 'Neueste lokale FW',
  newestAvailable: 'Neueste verfügbare FW',
  autoUpdate: 'Auto-Update',
  autoUpdateFor: 'Auto-Update für {model}',
  rollout: 'Rollout',
  noAccounts: 'Noch keine Telefonkonten.',
  unknown: 'unbekannt',
  imageFirmware: 'Image',
  settings: 'Einstellungen',
  globalSwitch: 'Automatischer Download und Installation',
  updateMoment: 'Wöchentlicher Update-Zeitpunkt',
  noUpdateMoment: 'kein automatisches Update',
  day: 'Tag',
  time: 'Uhrzeit',
  save: 'Speichern',
  saved: 'Gespeichert.',
  weeklyCheck: 'Wöchentliche Prüfung (einmalig zufällig festgelegt)',
  actions: 'Aktionen',
  checkNow: 'Jetzt prüfen',
  downloadNow: 'Jetzt herunterladen',
  updateNow: 'Jetzt aktualisieren',
  working: 'Läuft…',
  result: 'Ergebnis',
  rollouts: 'Rollouts',
  target: 'Zielversion',
  status: 'Status',
  progress: 'Fortschritt',
  phonesDone: '{done} von {total} Telefonen',
  rolloutCounts:
    '{updated} aktualisiert · {failed} fehlgeschlagen · {notContacted} nicht erreicht · {skipped} übersprungen — von {total} Telefonen',
  openTemporal: 'In Temporal UI öffnen',
  noRollouts: 'Noch keine Rollouts.',
  token: 'Admin-Token',
  signIn: 'Anmelden',
  signOut: 'Abmelden',
  signInHint: 'Das Token bleibt nur in diesem Browser-Tab.',
  requestFailed: 'Anfrage fehlgeschlagen',
  catalogUnreachable: 'Firmwareserver nicht erreichbar',
  checkedAt: 'Geprüft um {at}',
  downloadNeeded: 'Download nötig',
  upToDate: 'nichts Neues',
  language: 'English',
  weekdays: ['Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag', 'Sonntag'],
  decision: {
    started: 'gestartet',
    'already-running': 'läuft bereits',
    refused: 'abgelehnt',
    'nothing-to-do': 'nichts zu tun',
  },
  rolloutStatus: {
    running: 'läuft',
    completed: 'abgeschlossen',
    'completed-with-failures': 'abgeschlossen mit Fehlern',
    failed: 'fehlgeschlagen',
    cancelled: 'abgebrochen',
    refused: 'abgelehnt',
  },
};

export const LABELS: Record<Language, Labels> = { en, de };

/** `?lang=` wins; otherwise the first of Accept-Language's languages we have, by quality; English by default. */
export function pickLanguage(query: string | undefined, acceptLanguage: string | undefined): Language {
  if (query === 'de' || query === 'en') return query;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? '1',
      );
      return { lang: tag.split('-')[0], q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((l) => l.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const l of ranked) if (l.lang === 'de' || l.lang === 'en') return l.lang;
  return 'en';
}
