// RUN: llmc-opt %s | llmc-opt | FileCheck %s

// The general ops an ONNX graph lowers to outside the patterns: they print
// and parse back, and infer numpy-broadcast and reduced shapes.

// CHECK-LABEL: func.func @general
func.func @general(%x: tensor<3x4x5xf32>, %b: tensor<5xf32>, %c: tensor<3x1x5xf32>) -> (tensor<3x4x5xf32>, tensor<3x4x5xf32>, tensor<3x1x5xf32>, tensor<4xf32>) {
  // CHECK: llm.unary %{{.*}} kind = "exp" : tensor<3x4x5xf32>
  %0 = llm.unary %x kind = "exp" : tensor<3x4x5xf32>
  // CHECK: llm.binary %{{.*}}, %{{.*}} kind = "sub" : (tensor<3x4x5xf32>, tensor<5xf32>) -> tensor<3x4x5xf32>
  %1 = llm.binary %0, %b kind = "sub" : (tensor<3x4x5xf32>, tensor<5xf32>) -> tensor<3x4x5xf32>
  // CHECK: llm.binary %{{.*}}, %{{.*}} kind = "max" : (tensor<3x1x5xf32>, tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
  %2 = llm.binary %c, %1 kind = "max" : (tensor<3x1x5xf32>, tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
  // CHECK: llm.reduce %{{.*}} kind = "max" axes = [1] keepdims : tensor<3x4x5xf32> -> tensor<3x1x5xf32>
  %3 = llm.reduce %2 kind = "max" axes = [1] keepdims : tensor<3x4x5xf32> -> tensor<3x1x5xf32>
  // CHECK: llm.reduce %{{.*}} kind = "mean" axes = [0, 2] : tensor<3x4x5xf32> -> tensor<4xf32>
  %4 = llm.reduce %2 kind = "mean" axes = [0, 2] : tensor<3x4x5xf32> -> tensor<4xf32>
  // CHECK: llm.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x1x5xf32>, tensor<3x4x5xf32>, tensor<5xf32>) -> tensor<3x4x5xf32>
  %5 = llm.where %c, %1, %b : (tensor<3x1x5xf32>, tensor<3x4x5xf32>, tensor<5xf32>) -> tensor<3x4x5xf32>
  return %5, %2, %3, %4 : tensor<3x4x5xf32>, tensor<3x4x5xf32>, tensor<3x1x5xf32>, tensor<4xf32>
}
