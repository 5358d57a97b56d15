'use strict';
// onnxruntime-web's WebAssembly runtime under onnxruntime-node's name: transformers.js's feature
// extractors run a small ONNX matmul, which wasm does fine, without the native package whose
// install step downloads from NuGet (unreachable in CI and behind many proxies).
const path = require('node:path');
const ort = require('onnxruntime-web');
// transformers.js points an unset wasmPaths at a CDN; the package ships the files itself.
ort.env.wasm.wasmPaths = path.dirname(require.resolve('onnxruntime-web')) + path.sep;
module.exports = ort;
