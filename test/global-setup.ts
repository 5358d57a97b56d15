// Placeholder: the build module's global setup (one real llama.cpp build per test run) goes here.
export default function setup(): void {}
