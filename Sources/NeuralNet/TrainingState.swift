/// Networks and optimizer states as safetensors entries, for checkpoints and resume files.
extension Parameters {
    /// Every tensor, named `prefix + name`, with its [out, in] shape.
    public func namedTensors(prefix: String) -> [NamedTensor] {
        tensors.map { NamedTensor(name: prefix + $0.name, shape: $0.shape, values: values(of: $0)) }
    }

    /// Overwrites every tensor with the file's `prefix + name`, checking its shape and finiteness.
    public func load(from file: SafetensorsFile, prefix: String) throws {
        for tensor in tensors {
            setValues(of: tensor, to: try file.tensor(prefix + tensor.name, shape: tensor.shape).values)
        }
    }
}

extension Adam {
    /// The moments as `name.exp_avg` and `name.exp_avg_sq` (PyTorch's state names), and the step
    /// count as metadata `name.step`.
    public func state(named name: String) -> (tensors: [NamedTensor], metadata: [String: String]) {
        let shape = [parameters.count]
        return ([NamedTensor(name: name + ".exp_avg", shape: shape, values: parameters.packed(firstMoment)),
                 NamedTensor(name: name + ".exp_avg_sq", shape: shape, values: parameters.packed(secondMoment))],
                [name + ".step": String(step)])
    }

    /// Restores what `state(named:)` saved into `file`.
    public func restoreState(named name: String, from file: SafetensorsFile) throws {
        guard let step = file.metadata[name + ".step"].flatMap({ Int($0) }), step >= 0 else {
            throw SafetensorsError.notSafetensors(path: file.path, reason: "metadata '\(name).step' missing or malformed")
        }
        let shape = [parameters.count]
        restore(step: step, firstMoment: try file.tensor(name + ".exp_avg", shape: shape).values,
                secondMoment: try file.tensor(name + ".exp_avg_sq", shape: shape).values)
    }
}
