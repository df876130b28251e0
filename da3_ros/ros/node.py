# Copyright 2026 The da3_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""``da3_node``: a thin rclpy lifecycle adapter over the DA3 engine.

configure: read parameters, load the model (``Engine``), create publishers. activate:
subscribe (images, CameraInfo, ``/tf``, ``/tf_static``; ``subscriptions``), start the inference
worker and timers. With ``autostart`` (default) ``main`` runs both transitions, so the node also
works as a plain node. Inputs go through ``RigIntake`` (clock policy, ``MultiCameraSync``:
approximate time, partial sets after ``sync.timeout_s``; resets on time jumps) into a
latest-only worker (``LatestWorker``) that runs ``RigPipeline``: ``rig_input -> Engine ->
rig_output``. ``/diagnostics`` comes from ``NodeStats`` on a steady-clock timer.

Start it as the launch file does: ``da3_node --ros-args --params-file config/multi_cam.yaml``.
"""
import sys

import rclpy
from rclpy.clock import JumpThreshold
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter

from da3_ros.errors import Da3Error
from da3_ros.ros import params
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.diagnostics_publisher import DiagnosticsPublisher
from da3_ros.ros.engine_setup import build_engine, gpu_memory_mb
from da3_ros.ros.latest_worker import LatestWorker
from da3_ros.ros.locked_tf import LockedTf
from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.publishers import OutputPublishers
from da3_ros.ros.rig_intake import RigIntake
from da3_ros.ros.rig_pipeline import RigPipeline
from da3_ros.ros.subscriptions import subscribe_inputs
from da3_ros.ros.virtual_cameras import read_virtual_cameras, VirtualCameras

NS = 1_000_000_000


class Da3Node(LifecycleNode):
    """Depth Anything 3 on a synchronised camera rig (see the module docstring)."""

    def __init__(self, name: str = 'da3_node', **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.types = rclpy_types()
        params.declare_all(self)
        self.add_on_set_parameters_callback(params.update_validator(self))
        self.add_post_set_parameters_callback(self._parameters_changed)
        self.options = params.read_node_options(self)
        self.stats = NodeStats(self.options.cameras, name=self.get_name())
        self.tf = LockedTf(TfBuffer(cache_time_ns=int(self.options.tf_cache_s * NS)))
        self.intake = RigIntake(stats=self.stats, tf=self.tf, tf_message=self.types.TFMessage,
                                clock=self.get_clock(), logger=self.get_logger(),
                                log_once=self._log_once)
        self.engine = self.outputs = self.pipeline = self.worker = self.virtual = None
        self.handles: list = []
        self.diagnostics = DiagnosticsPublisher(self, self.types, self.stats,
                                                lambda: self.intake.sync_drops)
        self.jump_handler = None

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            virtual, backend = read_virtual_cameras(self)  # declares the virtual.* keys
            params.check_node_overrides(self)
            if virtual and not self.get_parameter('output.gaussians').value:
                self.set_parameters([Parameter('output.gaussians', value=True)])
            config = params.read_engine_config(self)
            self.options = params.read_node_options(self)
            sources = params.camera_sources(self)
            self.engine = build_engine(config, self.get_logger())
        except Exception as err:  # noqa: B902 - every failure is logged with its reason
            self.get_logger().error(f'configure failed: {type(err).__name__}: {err}')
            return TransitionCallbackReturn.FAILURE
        out = params.engine_output_options(self.options, config)
        self.outputs = OutputPublishers(self, self.types, self.options.cameras, out)
        self.virtual = VirtualCameras(
            self, self.types, virtual, lookup=self.tf.lookup, base_frame=out.base_frame,
            frame_prefix=out.camera_frame_prefix, depth_encoding=self.options.depth_encoding,
            backend=backend, log_error=self._log_once) if virtual else None
        self.pipeline = RigPipeline(
            self.engine, types=self.types, sources=sources, tf=self.tf, options=out,
            stats=self.stats, publish=self.outputs.publish, gpu_memory=gpu_memory_mb,
            use_odometry=self.options.use_odometry, log_error=self.get_logger().error,
            demand=self.outputs.subscribed, clock_ns=lambda: self.get_clock().now().nanoseconds,
            overlap=self.engine.device.type == 'cuda', on_result=self.virtual)
        self.config = config
        self.get_logger().info(f'configured {len(sources)} cameras, {config.model.variant} on'
                               f' {self.engine.device}, tf_mode {self.options.tf_mode}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._start_inputs()
        except Exception as err:  # noqa: B902 - rclpy would turn it into a silent ERROR
            self.get_logger().error(f'activate failed: {type(err).__name__}: {err}')
            self._stop_inputs()
            return TransitionCallbackReturn.FAILURE
        return super().on_activate(state)

    def _start_inputs(self) -> None:
        opts = self.options
        self.worker = LatestWorker(self.pipeline, on_drop=self.stats.drop,
                                   on_error=self._worker_error)
        self.intake.start(opts, self.worker, self.pipeline)
        self.jump_handler = self.get_clock().create_jump_callback(
            JumpThreshold(min_forward=None, min_backward=Duration(nanoseconds=-1)),
            post_callback=self.intake.clock_jumped)
        self.worker.start()
        subscribe_inputs(self, self.types, self.config.cameras, self.pipeline.sources, opts.qos,
                         self.intake, self.handles)
        self.handles.append(self.create_timer(0.05, self.intake.poll))
        self.diagnostics.start(self.outputs.diagnostics, opts.diagnostics_period_s)

    def _parameters_changed(self, changed: list) -> None:
        """Apply accepted updates of the writable parameters while configured.

        Output, TF and publish options take effect with the next set, ``window.*`` restarts
        the trajectory on the same network and ``diagnostics_period_s`` restarts its timer.
        Structural parameters are read-only (``params``), so nothing here reloads the model.
        """
        if self.pipeline is None:  # unconfigured: configure reads every parameter anyway
            return
        try:
            config = params.read_engine_config(self)
            options = params.read_node_options(self)
        except Da3Error as err:  # validated before it was set; only a bug gets here
            self.get_logger().error(f'parameter update not applied: {err}')
            return
        out = params.engine_output_options(options, config)
        self.outputs.ensure(out)
        self.pipeline.update(out, config)
        if options.diagnostics_period_s != self.options.diagnostics_period_s:
            self.diagnostics.set_period(options.diagnostics_period_s)
        self.options, self.config = options, config
        names = ', '.join(p.name for p in changed)
        self.get_logger().info(f'applied at run time: {names}')

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_inputs()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.outputs is not None:
            self.outputs.destroy()
        if self.virtual is not None:
            self.virtual.destroy()
        self.engine = self.outputs = self.pipeline = self.virtual = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_inputs()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        """Join the inference thread and drop the jump callback before rclpy lets go.

        A live worker thread at interpreter exit keeps the context alive, and Fast DDS then
        tears the participant down inside the exit handlers (a segfault after Ctrl-C).
        """
        self._stop_inputs()
        super().destroy_node()

    def _stop_inputs(self) -> None:
        for handle in self.handles:
            destroy = self.destroy_timer if hasattr(handle, 'timer_period_ns') \
                else self.destroy_subscription
            destroy(handle)
        self.handles.clear()
        self.diagnostics.stop()
        if self.jump_handler is not None:
            self.jump_handler.unregister()
            self.jump_handler = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.pipeline is not None:
            self.pipeline.close()

    def _worker_error(self, err: BaseException) -> None:
        if not self.context.ok():  # Ctrl-C during inference: publishing found rclpy shut down
            return
        self._log_once(f'inference failed: {type(err).__name__}: {err}')
        self.stats.drop('worker_exception')

    def _log_once(self, text: str) -> None:
        if self.stats.error(text):
            self.get_logger().error(text)


USAGE = """usage: da3_node [-h] --ros-args --params-file FILE [-p NAME:=VALUE ...] [-r __ns:=/NS]
                [--log-level LEVEL]

Depth Anything 3 for a multi-camera rig: per-camera depth, confidence and clouds, the fused
cloud in base_link, TF and da3_ros_msgs/RigStep (README: "Topics", "Parameters").

  --params-file FILE          node parameters, e.g. config/multi_cam.yaml (cameras, model, ...)
  -p model.weights:=W         checkpoint folder or file, or hub id (README: "Getting the
                              weights"); placeholders "parity" and "random" give meaningless output
  -p model.variant:=V         the checkpoint's variant, e.g. da3-small
  -p use_sim_time:=true       follow /clock (ros2 bag play --clock)
  -r __ns:=/NS                namespace of the node and its topics
  --log-level LEVEL           debug, info, warn, error or fatal
On the pip-only runtime source scripts/ros_env.sh first (domain id, transport)."""


def main(args: list[str] | None = None) -> int:
    """Console script ``da3_node``: run the node until Ctrl-C or shutdown; 1 on startup errors."""
    argv = list(args if args is not None else sys.argv)
    own = argv[1:argv.index('--ros-args')] if '--ros-args' in argv else argv[1:]
    if '-h' in own or '--help' in own:
        print(USAGE)
        return 0
    rclpy.init(args=argv)
    node = None
    try:
        node = Da3Node()
        if not rclpy.ok():  # Ctrl-C while the node was being built
            return 0
        if node.options.autostart:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                node.get_logger().fatal('configure failed; exiting')
                return 1
            if node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
                node.get_logger().fatal('activate failed; exiting')
                return 1
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except _rclpy.RCLError:
        if rclpy.ok():
            raise
        # Ctrl-C during start-up shuts the context down under the node being created.
    except Da3Error as err:
        print(f'da3_node: {type(err).__name__}: {err}', file=sys.stderr)
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
