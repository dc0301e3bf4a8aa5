// Structures served the pre-1.04 way (issue 14), for `server.mjs --legacy-structures`: the custom DataTypes of
// structures.NodeSet2.xml answer BadAttributeIdInvalid for their DataTypeDefinition attribute (23), as servers older
// than OPC UA 1.04 do, and are described by an OPC Binary DataTypeDictionary instead (OPC 10000-5 Annex D, 10000-6
// Annex F): a DataTypeDictionaryType variable under OPCBinarySchema_TypeSystem (i=93) whose Value is the
// opc:TypeDictionary XML, one DataTypeDescriptionType variable per type (Value: the type's name in the dictionary),
// and a HasDescription reference from each Default Binary encoding to its description.
import { AttributeIds, DataType, DataValue, StatusCodes, Variant } from "node-opcua";

export const dictionaryXml = `<?xml version="1.0" encoding="utf-8"?>
<opc:TypeDictionary xmlns:opc="http://opcfoundation.org/BinarySchema/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:ua="http://opcfoundation.org/UA/" xmlns:tns="urn:iiot-gateway:test:structures"
    DefaultByteOrder="LittleEndian" TargetNamespace="urn:iiot-gateway:test:structures">
  <opc:Import Namespace="http://opcfoundation.org/UA/" />
  <opc:EnumeratedType Name="MotorMode" LengthInBits="32">
    <opc:EnumeratedValue Name="Off" Value="0" />
    <opc:EnumeratedValue Name="Manual" Value="1" />
    <opc:EnumeratedValue Name="Auto" Value="2" />
  </opc:EnumeratedType>
  <opc:StructuredType Name="Position" BaseType="ua:ExtensionObject">
    <opc:Field Name="X" TypeName="opc:Float" />
    <opc:Field Name="Y" TypeName="opc:Float" />
  </opc:StructuredType>
  <opc:StructuredType Name="MotorData" BaseType="ua:ExtensionObject">
    <opc:Field Name="NoteSpecified" TypeName="opc:Bit" />
    <opc:Field Name="Reserved1" TypeName="opc:Bit" Length="31" />
    <opc:Field Name="Speed" TypeName="opc:Float" />
    <opc:Field Name="Torque" TypeName="opc:Int16" />
    <opc:Field Name="Label" TypeName="opc:String" />
    <opc:Field Name="Running" TypeName="opc:Boolean" />
    <opc:Field Name="Mode" TypeName="tns:MotorMode" />
    <opc:Field Name="Position" TypeName="tns:Position" />
    <opc:Field Name="NoOfProfile" TypeName="opc:Int32" />
    <opc:Field Name="Profile" TypeName="opc:Float" LengthField="NoOfProfile" />
    <opc:Field Name="Note" TypeName="opc:String" SwitchField="NoteSpecified" />
  </opc:StructuredType>
</opc:TypeDictionary>
`;

/** Hides attribute 23 of the structure namespace's DataTypes and adds the dictionary that describes them. */
export function serveLegacyStructures(addressSpace, namespace, structureNamespace) {
  const types = ["MotorMode", "Position", "MotorData"].map(name => addressSpace.findDataType(name, structureNamespace.index));
  for (const type of types) {
    const read = type.readAttribute.bind(type);
    type.readAttribute = (context, attributeId, ...rest) => attributeId === AttributeIds.DataTypeDefinition
      ? new DataValue({ statusCode: StatusCodes.BadAttributeIdInvalid })
      : read(context, attributeId, ...rest);
  }

  const dictionary = namespace.addVariable({ componentOf: addressSpace.findNode("i=93"), nodeId: "s=Dictionaries.TestStructures",
    browseName: "TestStructures", typeDefinition: "i=72", dataType: "ByteString",
    value: new Variant({ dataType: DataType.ByteString, value: Buffer.from(dictionaryXml, "utf8") }) });
  namespace.addVariable({ propertyOf: dictionary, browseName: "NamespaceUri", dataType: "String",
    value: new Variant({ dataType: DataType.String, value: "urn:iiot-gateway:test:structures" }) });
  for (const type of types.slice(1)) {
    const name = type.browseName.name;
    const description = namespace.addVariable({ componentOf: dictionary, nodeId: `s=Dictionaries.TestStructures.${name}`,
      browseName: name, typeDefinition: "i=69", dataType: "String", value: new Variant({ dataType: DataType.String, value: name }) });
    const encoding = type.binaryEncoding ?? type.getEncodingNode("Default Binary");
    encoding.addReference({ referenceType: "HasDescription", nodeId: description.nodeId });
  }
  return dictionary;
}
