import Foundation
import MuJoCo

/// Model files and small MJCF texts shared by the MuJoCo tests.
enum TestModels {
    /// The checkout's `models/` folder: Tests/MuJoCoTests/<file> -> ../../models.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models")

    static func path(_ file: String) -> String { folder.appendingPathComponent(file).path }

    static func load(_ file: String) throws -> PhysicsModel { try PhysicsModel(contentsOf: path(file)) }

    /// One free body (a 1 kg sphere) in empty space under gravity, integrated with Euler steps of 0.01 s.
    static let freeFall = """
        <mujoco model="free-fall">
          <option timestep="0.01" integrator="Euler" gravity="0 0 -9.81"/>
          <worldbody>
            <body name="ball" pos="0 0 10">
              <freejoint name="free"/>
              <geom type="sphere" size="0.1" mass="1"/>
            </body>
          </worldbody>
        </mujoco>
        """

    /// A slider with a motor and a hinge, on a floor: a small model with qpos, qvel and ctrl.
    static let slider = """
        <mujoco model="slider">
          <option timestep="0.005"/>
          <worldbody>
            <geom name="floor" type="plane" size="5 5 .1"/>
            <body name="cart" pos="0 0 0.5">
              <joint name="slide" type="slide" axis="1 0 0"/>
              <geom type="box" size="0.2 0.1 0.1" mass="2"/>
              <body name="pole" pos="0 0 0.1">
                <joint name="hinge" type="hinge" axis="0 1 0"/>
                <geom type="capsule" fromto="0 0 0 0 0 0.6" size="0.03" mass="0.5"/>
              </body>
            </body>
          </worldbody>
          <actuator>
            <motor name="push" joint="slide" gear="10" ctrllimited="true" ctrlrange="-1 1"/>
          </actuator>
        </mujoco>
        """

    static func simulation(_ xml: String) throws -> Simulation {
        try Simulation(model: PhysicsModel(xml: xml))
    }
}
