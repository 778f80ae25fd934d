package fake

// sysMemfdCreate is the number of the memfd_create system call.
const sysMemfdCreate = 279
