"""What the tests of every initializer share (test_initializers, test_device and the GPU tests in
tests/cuda): one call of each, and a stand-in for another library's GPU array."""
from fastinit.initializers import LUX_FAMILY


class ForeignArray:
    """A GPU array of another library (CuPy, torch): nothing but ``__cuda_array_interface__``,
    over ``host``'s memory (which is what device memory is in Numba's CUDA simulator; without a
    GPU, only the checks of ``out`` can run on it)."""

    def __init__(self, host, readonly=False, strides=None, typestr=None):
        self.host = host
        self.__cuda_array_interface__ = {
            "shape": host.shape, "typestr": typestr or host.dtype.str, "strides": strides,
            "data": (host.ctypes.data, readonly), "version": 3, "stream": None}


#: name -> (shape, required parameters, typical parameters, random?)
SPECS = {
    "uniform": ((40, 30), {}, dict(low=-2.0, high=3.0), True),
    "normal": ((40, 30), {}, dict(mean=0.5, std=2.0), True),
    "truncated_normal": ((40, 30), {}, dict(mean=0.1, std=1.5, lo=-1.0, hi=3.0), True),
    "sparse": ((40, 30), dict(sparsity=0.5), dict(sparsity=0.5, std=0.1), True),
    "constant": ((40, 30), dict(value=2.0), dict(value=2.0), False),
    "zeros": ((40, 30), {}, dict(dtype="float64"), False),
    "ones": ((40, 30), {}, dict(dtype="float16"), False),
    "variance_scaling": ((40, 30), {}, dict(scale=2.0, mode="fan_out", distribution="uniform",
                                            layout="keras"), True),
    "glorot_uniform": ((40, 30), {}, dict(gain=2.0, layout="jax"), True),
    "glorot_normal": ((40, 30), {}, dict(gain=0.5, truncated=True), True),
    "kaiming_uniform": ((40, 30), {}, dict(a=0.2, mode="fan_out"), True),
    "kaiming_normal": ((40, 30), {}, dict(gain=1.0, layout="lux"), True),
    "lecun_uniform": ((40, 30), {}, dict(layout="keraflow"), True),
    "lecun_normal": ((40, 30), {}, dict(truncated=False, layout="keras"), True),
    "orthogonal": ((40, 30), {}, dict(gain=1.1, layout="keras"), True),
    "delta_orthogonal": ((3, 3, 5, 8), {}, dict(gain=0.5, column_axis=0), True),
    "identity": ((6, 6), {}, dict(shift=(1, 0), gain=2.0), False),
    "eye": ((5, 7), {}, dict(gain=3.0), False),
    "dirac": ((4, 2, 3, 3), {}, dict(groups=2), False),
    "stft": ((16, 1, 9), {}, dict(window=None, side="imag"), False),
}
for _n in LUX_FAMILY:
    SPECS[_n] = ((40, 30), {}, {}, _n.startswith("rand"))
