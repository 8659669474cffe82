#include "runtime/cuda/emulated/device_communicator.h"

#include "runtime/cuda/emulated/device_memory.h"

#include <map>
#include <memory>

namespace llmc::cuda::emulated {
namespace {

// A request whose progress may touch device memory.
class DeviceRequest final : public comm::Request {
public:
  explicit DeviceRequest(std::unique_ptr<comm::Request> inner)
      : inner_(std::move(inner)) {}
  ~DeviceRequest() override {
    DeviceWork work;
    inner_.reset();
  }
  void wait() override {
    DeviceWork work;
    inner_->wait();
  }
  bool test() override {
    DeviceWork work;
    return inner_->test();
  }

private:
  std::unique_ptr<comm::Request> inner_;
};

class DeviceCommunicator final : public comm::Communicator {
public:
  explicit DeviceCommunicator(comm::Communicator &host) : host_(host) {}
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  const char *backend() const override { return host_.backend(); }
  void all_reduce(void *data, size_t n, comm::DType dtype) override {
    DeviceWork work;
    host_.all_reduce(data, n, dtype);
  }
  std::unique_ptr<comm::Request> all_reduce_async(void *data, size_t n,
                                                  comm::DType dtype) override {
    DeviceWork work;
    return wrap(host_.all_reduce_async(data, n, dtype));
  }
  void all_gather(const void *send, void *recv, size_t n,
                  comm::DType dtype) override {
    DeviceWork work;
    host_.all_gather(send, recv, n, dtype);
  }
  std::unique_ptr<comm::Request> all_gather_async(const void *send, void *recv,
                                                  size_t n,
                                                  comm::DType dtype) override {
    DeviceWork work;
    return wrap(host_.all_gather_async(send, recv, n, dtype));
  }
  void reduce_scatter(const void *send, void *recv, size_t n,
                      comm::DType dtype) override {
    DeviceWork work;
    host_.reduce_scatter(send, recv, n, dtype);
  }
  std::unique_ptr<comm::Request>
  reduce_scatter_async(const void *send, void *recv, size_t n,
                       comm::DType dtype) override {
    DeviceWork work;
    return wrap(host_.reduce_scatter_async(send, recv, n, dtype));
  }
  void broadcast(void *data, size_t n, comm::DType dtype, int root) override {
    DeviceWork work;
    host_.broadcast(data, n, dtype, root);
  }
  void send(const void *data, size_t n, comm::DType dtype, int peer,
            int tag) override {
    DeviceWork work;
    host_.send(data, n, dtype, peer, tag);
  }
  std::unique_ptr<comm::Request> isend(const void *data, size_t n,
                                       comm::DType dtype, int peer,
                                       int tag) override {
    DeviceWork work;
    return wrap(host_.isend(data, n, dtype, peer, tag));
  }
  void recv(void *data, size_t n, comm::DType dtype, int peer,
            int tag) override {
    DeviceWork work;
    host_.recv(data, n, dtype, peer, tag);
  }
  std::unique_ptr<comm::Request> irecv(void *data, size_t n, comm::DType dtype,
                                       int peer, int tag) override {
    DeviceWork work;
    return wrap(host_.irecv(data, n, dtype, peer, tag));
  }
  void barrier() override {
    DeviceWork work; // MPI may progress device-memory requests here
    host_.barrier();
  }
  std::unique_ptr<comm::Communicator> split(int color, int key) override {
    return host_.split(color, key); // the executor splits host groups only
  }

private:
  static std::unique_ptr<comm::Request>
  wrap(std::unique_ptr<comm::Request> inner) {
    return std::make_unique<DeviceRequest>(std::move(inner));
  }
  comm::Communicator &host_;
};

} // namespace

comm::Communicator *device_communicator(comm::Communicator &host) {
  static auto *made =
      new std::map<comm::Communicator *, std::unique_ptr<comm::Communicator>>;
  std::unique_ptr<comm::Communicator> &device = (*made)[&host];
  if (!device)
    device = std::make_unique<DeviceCommunicator>(host);
  return device.get();
}

} // namespace llmc::cuda::emulated
