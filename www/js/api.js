// The npm package from pkg/, imported exactly as an app would import it.
// This is the only file that names its path.
export {
  default as init,
  UpdatesClient,
  WorkClient,
  StatsClient,
  Code,
  navigationSignal,
} from "/pkg/index.js";
