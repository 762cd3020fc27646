/** A descriptor some other part of the kernel owns (RDMA event channels, verbs async fds). Its
 *  own file, importing nothing, so those parts need not import the kernel that holds their
 *  descriptors; it is an epoll Pollable by its shape. */
export interface KernelFile {
  /** The EPOLL* events ready now (epoll.ts's Pollable). */
  pollMask(): number;
  /** The descriptor was closed. */
  closed(): void;
}
