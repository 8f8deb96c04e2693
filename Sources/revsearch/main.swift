import TensorCore
print(BLAS.coreName)
