/** The one llama.cpp this tool builds: everything else is checked against these values. */
export const LLAMA_CPP = {
  tag: 'v0.5.0',
  /** `git rev-parse v0.5.0^{tree}`: every source is checked against it before use. */
  tree: 'fd570ef54b10ec5fecb739e7e04c8ce44a6f415a',
  gitUrl: 'https://github.com/ggml-org/llama.cpp',
  /**
   * Files tracked in the v0.5.0 tree although its .gitignore matches them; `git add -A` of a plain
   * folder skips those, so they are added with --force when present.
   */
  trackedIgnored: [
    'benches/dgx-spark/run-aime-120b-t8-x8-high.log',
    'build-xcframework.sh',
    'examples/llama.swiftui/llama.swiftui.xcodeproj/project.xcworkspace/xcshareddata/IDEWorkspaceChecks.plist',
  ],
} as const;

/** The npm package whose tarball carries the v0.5.0 tree as a git bundle. */
export const NPM_SOURCE = {
  name: 'node-llama-cpp',
  version: '3.22.1',
  /** dist.integrity from the registry, pinned: a mirror serving other bytes is refused. */
  integrity: 'sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw==',
  bundlePath: 'package/llama/gitRelease.bundle',
} as const;

/** The binaries built, by role. */
export const TARGETS = {
  mtmdCli: 'llama-mtmd-cli',
  server: 'llama-server',
  quantize: 'llama-quantize',
} as const;

/**
 * The oldest cmake that builds v0.5.0 our way: its top-level CMakeLists asks 3.14, and
 * `cmake --build --target a b c` needs 3.15; the CUDA backend asks 3.18 and Vulkan 3.19.
 */
export const MIN_CMAKE = { cpu: '3.15', metal: '3.15', cuda: '3.18', vulkan: '3.19' } as const;

export const shortTree = LLAMA_CPP.tree.slice(0, 8);
