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

"""What the bag tool needs besides the engine config: topics, frames, sync and output options.

``BagConfig`` is built from the node's params file (``config/multi_cam.yaml``, read through
``da3_ros.ros.params`` so the node and the bag tool agree) or, for the sample recording and the
tests, by :func:`sample_config`.
"""
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Tuple

from da3_ros.config import CameraConfig, EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.errors import ConfigError
from da3_ros.ros.messages.camera_info import camera_info_topic, is_rectified_topic
from da3_ros.ros.messages.rig_input import CameraSource
from da3_ros.ros.messages.rig_output import OutputOptions


@dataclass(frozen=True)
class BagConfig:
    """Engine config plus how the bag's messages map onto it.

    Attributes:
        engine: engine configuration; ``engine.cameras`` give names and topics in rig order.
        transports: per camera ``'raw'`` or ``'compressed'`` (rig order).
        output: what ``rig_output`` builds.
        base_frame: rig body frame (extrinsics from TF are looked up against it).
        odom_frame: odometry frame; empty to ignore odometry.
        slop_s: maximum spread of a synchronised set.
        timeout_s: emit partial sets once the oldest waiting image is this old (message time).
        namespace: prefix of the node's relative output topics: the node publishes them as
            ``~/<topic>``, i.e. ``/da3_node/<topic>`` for the node at the root namespace.
        diagnostics: write ``/diagnostics`` per processed set.
        gt_frames: (parent, child) of the ground-truth trajectory in the bag's TF (``--eval``).
        camera_sources: ``rig_input`` read options from the params file (else derived).
    """

    engine: EngineConfig = field(default_factory=EngineConfig)
    transports: Tuple[str, ...] = ()
    output: OutputOptions = field(default_factory=OutputOptions)
    base_frame: str = 'base_link'
    odom_frame: str = 'odom'
    slop_s: float = 0.02
    timeout_s: float = 0.5
    namespace: str = 'da3_node'
    diagnostics: bool = True
    gt_frames: Tuple[str, str] = ('odom', 'base_link')
    camera_sources: Tuple[CameraSource, ...] = ()

    def sources(self) -> Tuple[CameraSource, ...]:
        """``rig_input`` read options per camera (extrinsics from TF unless configured)."""
        if self.camera_sources:
            return self.camera_sources
        return tuple(CameraSource(name=cam.name, transport=self.transport(i),
                                  frame_id=cam.frame_id,
                                  rectified=is_rectified_topic(cam.image_topic))
                     for i, cam in enumerate(self.engine.cameras))

    def transport(self, index: int) -> str:
        """Transport of camera ``index`` (default from the topic name)."""
        if index < len(self.transports):
            return self.transports[index]
        topic = self.engine.cameras[index].image_topic
        return 'compressed' if topic.endswith('/compressed') else 'raw'

    def info_topic(self, cam: CameraConfig) -> str:
        """Return the CameraInfo topic of ``cam`` (``<image ns>/camera_info`` when empty)."""
        return cam.info_topic or camera_info_topic(cam.image_topic)

    def topic(self, relative: str) -> str:
        """Absolute output topic of a ``rig_output`` topic."""
        if relative.startswith('/'):
            return relative
        return '/'.join(p for p in (self.namespace.strip('/'), relative) if p).join(('/', ''))

    def validate(self) -> 'BagConfig':
        """Check the engine config and the camera topics; return self."""
        self.engine.validate()
        if not self.engine.cameras:
            raise ConfigError('cameras: the bag tool needs at least one camera')
        for cam in self.engine.cameras:
            if not cam.image_topic:
                raise ConfigError(f'cameras.{cam.name}.image_topic: empty')
        return self


def cpu_model(process_res: int = 42, weights: str = 'parity') -> ModelConfig:
    """CPU-friendly model settings (da3-small, fp32, tiny resolution)."""
    return ModelConfig(variant='da3-small', weights=weights, device='cpu', dtype='fp32',
                       process_res=process_res)


def sample_config(spec: Optional[object] = None, *, model: Optional[ModelConfig] = None,
                  window: Optional[WindowConfig] = None,
                  output: Optional[OutputConfig] = None) -> BagConfig:
    """Return the config that processes a sample recording (``sample_recording.RecordingSpec``)."""
    from da3_ros.tools.bag import sample_recording as recording
    spec = spec or recording.RecordingSpec()
    rig = recording.make_rig(spec)
    cameras = tuple(CameraConfig(name=name, image_topic=recording.image_topic(spec, name),
                                 info_topic=recording.info_topic(spec, name),
                                 frame_id=recording.optical_frame(name))
                    for name in recording.camera_names(spec, rig))
    engine = EngineConfig(model=model or cpu_model(), cameras=cameras,
                          window=window or WindowConfig(length=2),
                          output=output or OutputConfig())
    # No odometry input: the engine estimates the trajectory that --eval compares with /tf.
    return BagConfig(engine=engine, transports=(spec.transport,) * len(cameras), odom_frame='',
                     output=OutputOptions(tf_mode='cameras', model_variant=engine.model.variant),
                     slop_s=0.5 / spec.rate, timeout_s=3.0 / spec.rate).validate()


def load_config(path: Path) -> BagConfig:
    """Read the node's params file into a BagConfig with the node's own parameter code.

    ``da3_ros.ros.params`` declares every parameter with its default and reads them back; here
    it runs against :class:`params_file.FileParameters` (the YAML's ``ros__parameters``) instead
    of a live node, so the bag tool and the node read a file identically.

    Raises:
        ConfigError: unreadable file, no ``ros__parameters`` block, an unknown key (named with
            the closest valid one) or invalid values.
    """
    from da3_ros.ros import params
    from da3_ros.tools.bag.params_file import FileParameters
    node = FileParameters.from_yaml(Path(path))
    params.declare_all(node)
    params.check_known(node.values, node.defaults)
    engine = params.read_engine_config(node)
    options = params.read_node_options(node)
    sources = tuple(params.camera_sources(node))
    output = params.output_options(options, engine.output, engine.model.variant)
    return BagConfig(
        engine=engine, transports=tuple(src.transport for src in sources), output=output,
        camera_sources=sources, base_frame=options.base_frame,
        odom_frame=options.odom_frame if options.use_odometry else '',
        slop_s=options.sync_slop_s, timeout_s=options.sync_timeout_s or 3600.0,
        gt_frames=(options.odom_frame, options.base_frame)).validate()


def with_model(config: BagConfig, weights: Optional[str] = None, variant: Optional[str] = None,
               device: Optional[str] = None) -> BagConfig:
    """``config`` with the model's weights, variant and device replaced where not None.

    The bag tool's ``--weights``, ``--variant`` and ``--device``. ``weights`` is a placeholder
    word (``'parity'``, ``'random'``), a checkpoint path or a hub id; ``device`` is ``'auto'``
    or a torch device string.
    """
    old = config.engine.model
    model = replace(old, weights=weights or old.weights, variant=variant or old.variant,
                    device=device or old.device)
    return replace(config, engine=replace(config.engine, model=model)).validate()
