// HDF5's C interface (Debian's libhdf5-dev; pkg-config `hdf5` gives the include path).
// The predefined types and property lists are macros that expand to globals filled in by H5open(),
// which Swift cannot import, so each one used is wrapped in a function here.
#include <hdf5.h>

static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_c_string(void) { return H5T_C_S1; }
static inline size_t chdf5_variable_size(void) { return H5T_VARIABLE; }

static inline hid_t chdf5_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_all(void) { return H5S_ALL; }
static inline hid_t chdf5_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_group_create(void) { return H5P_GROUP_CREATE; }

static inline unsigned chdf5_read_only(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_create_exclusive(void) { return H5F_ACC_EXCL; }

// HDF5 prints its error stack to stderr by default. Failures are reported through return codes
// instead and turned into errors that name the file and key. The setting is per thread in a
// thread-safe build, so it is applied at the start of every operation.
static inline herr_t chdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
